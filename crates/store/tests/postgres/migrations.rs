//! The schema is applied by the servers themselves: once, in order, all or nothing, even when
//! several start at the same moment.

use crate::harness::{TestDb, connect};
use caseload_store::postgres::{MIGRATIONS, Migration, migrate, schema_version};
use std::collections::{BTreeMap, BTreeSet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_starting_together_apply_each_migration_exactly_once() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let starts: Vec<_> = (0..6)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move {
                let mut client = connect(&url).await.expect("connect");
                migrate(&mut client, MIGRATIONS).await
            })
        })
        .collect();
    let mut applied = Vec::new();
    for start in starts {
        applied.extend(start.await.expect("task").expect("migrate"));
    }
    applied.sort();
    let all: Vec<i32> = MIGRATIONS.iter().map(|m| m.version).collect();
    assert_eq!(applied, all, "every version applied by exactly one server");

    let mut client = db.client().await;
    assert_eq!(schema_version(&client).await.unwrap(), all.len() as i32);
    assert_eq!(
        migrate(&mut client, MIGRATIONS).await.unwrap(),
        Vec::<i32>::new()
    );
}

/// Table for table and column for column, the PostgreSQL schema is the SQLite one, plus what
/// only the scale-out mode needs (the writing transaction's id on the logs read in commit order,
/// the nodes' positions, the log's floor, the migrations' own record).
#[tokio::test]
async fn the_tables_are_the_sqlite_tables() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let client = db.client().await;
    let mut postgres: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = 'public'",
            &[],
        )
        .await
        .unwrap()
    {
        postgres.entry(row.get(0)).or_default().insert(row.get(1));
    }

    let sqlite = rusqlite::Connection::open_in_memory().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        sqlite
            .execute_batch(&std::fs::read_to_string(&file).unwrap())
            .unwrap();
    }
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut tables = sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap();
    let names: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for table in names {
        let mut columns = sqlite
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap();
        let columns: BTreeSet<String> = columns
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        expected.insert(table, columns);
    }
    for table in ["changes", "events"] {
        expected.get_mut(table).unwrap().insert("xid".into());
    }
    // Which server delivers a webhook's events (migration 5).
    for column in ["holder", "lease_until_ms"] {
        expected
            .get_mut("event_deliveries")
            .unwrap()
            .insert(column.into());
    }
    let set = |cols: &[&str]| cols.iter().map(|c| c.to_string()).collect::<BTreeSet<_>>();
    expected.insert(
        "schema_migrations".into(),
        set(&["version", "name", "applied_at"]),
    );
    expected.insert(
        "index_positions".into(),
        set(&["node", "needed_xid", "position", "updated_at"]),
    );
    expected.insert("change_log_floor".into(), set(&["only_row", "xid"]));
    // The one thing only several servers need: a counter of schema writes (migration 4).
    expected.insert("schema_generation".into(), set(&["only_row", "generation"]));
    assert_eq!(postgres, expected);
}

const FIRST: Migration = Migration {
    version: 1,
    name: "first",
    sql: "CREATE TABLE first_table (id INTEGER PRIMARY KEY); INSERT INTO first_table VALUES (1);",
};
const BROKEN: Migration = Migration {
    version: 2,
    name: "second",
    sql: "CREATE TABLE second_table (id INTEGER); INSERT INTO no_such_table VALUES (1);",
};
const SECOND: Migration = Migration {
    version: 2,
    name: "second",
    sql: "CREATE TABLE second_table (id INTEGER);",
};

async fn table_exists(client: &tokio_postgres::Client, table: &str) -> bool {
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_failing_migration_leaves_nothing_behind_and_later_ones_apply_in_order() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let mut client = db.client().await;

    let failed = migrate(&mut client, &[FIRST, BROKEN]).await.unwrap_err();
    assert!(!failed.is_retryable(), "{failed}");
    assert!(
        failed.to_string().contains("migration 2 (second) failed"),
        "{failed}"
    );
    // One transaction: not even the first migration stayed.
    assert_eq!(schema_version(&client).await.unwrap(), 0);
    assert!(!table_exists(&client, "first_table").await);
    assert!(!table_exists(&client, "second_table").await);

    assert_eq!(migrate(&mut client, &[FIRST]).await.unwrap(), vec![1]);
    assert_eq!(
        migrate(&mut client, &[FIRST, SECOND]).await.unwrap(),
        vec![2]
    );
    assert_eq!(schema_version(&client).await.unwrap(), 2);
    assert!(table_exists(&client, "second_table").await);
    let rows: i64 = client
        .query_one("SELECT count(*) FROM first_table", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "the first migration ran once");
}

#[tokio::test]
async fn a_server_older_than_the_schema_or_disagreeing_with_it_refuses_to_start() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let mut client = db.client().await;
    migrate(&mut client, &[FIRST, SECOND]).await.unwrap();

    let older = migrate(&mut client, &[FIRST]).await.unwrap_err();
    assert!(
        older.to_string().contains("newer than this server"),
        "{older}"
    );

    let renamed = Migration {
        name: "something else",
        ..SECOND
    };
    let disagreeing = migrate(&mut client, &[FIRST, renamed]).await.unwrap_err();
    assert!(
        disagreeing.to_string().contains("schema version 2"),
        "{disagreeing}"
    );

    let gap = Migration {
        version: 3,
        ..SECOND
    };
    assert!(migrate(&mut client, &[FIRST, gap]).await.is_err());
    assert_eq!(schema_version(&client).await.unwrap(), 2);
}
