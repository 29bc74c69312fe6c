"""Counts a caseload server's open descriptors on a data directory: at start-up, after a mix of
searches, and (sampled every 50 ms) during and after a CreateCase load, when the index commits
and merges segments. Usage: python3 scripts/count-descriptors.py CASELOAD_BIN DATA_DIR [LOAD_SECONDS]."""
import os, re, subprocess, sys, threading, time, urllib.request
import boto3
from botocore.config import Config

binary, data = sys.argv[1], sys.argv[2]
load_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 60
proc = subprocess.Popen([binary, "serve", "--data-dir", data, "--listen", "127.0.0.1:0"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
endpoint = None
for line in proc.stdout:
    m = re.search(r"listening on (http://\S+)", line)
    if m:
        endpoint = m.group(1)
        break
threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()

def fds():
    return len(os.listdir(f"/proc/{proc.pid}/fd"))

def index_files():
    return len(os.listdir(os.path.join(data, "index")))

while True:
    try:
        if urllib.request.urlopen(endpoint + "/ready").status == 200:
            break
    except Exception:
        time.sleep(0.1)
print(f"start-up (ready): {fds()} descriptors, {index_files()} files in index/", flush=True)

client = boto3.client("connectcases", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(retries={"mode": "standard"}, max_pool_connections=64))
domain = client.list_domains()["domains"][0]["domainId"]
template = client.list_templates(domainId=domain)["templates"][0]["templateId"]
def eq(f, v):
    return {"field": {"equalTo": {"id": f, "value": {"stringValue": v}}}}
queries = [
    {}, {"filter": eq("status", "open")}, {"filter": eq("status", "closed")},
    {"searchTerm": "slow"}, {"searchTerm": "printer"},
    {"filter": {"field": {"contains": {"id": "title", "value": {"stringValue": "rint"}}}}},
    {"sorts": [{"fieldId": "title", "sortOrder": "Asc"}]},
    {"filter": {"not": eq("status", "closed")}, "sorts": [{"fieldId": "created_datetime", "sortOrder": "Desc"}]},
]
for q in queries * 3:
    r = client.search_cases(domainId=domain, maxResults=25, **q)
print(f"after {len(queries) * 3} searches: {fds()} descriptors, {index_files()} files in index/", flush=True)

stop = threading.Event()
done = [0]
def writer(n):
    c = boto3.client("connectcases", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id="test", aws_secret_access_key="test")
    i = 0
    while not stop.is_set():
        c.create_case(domainId=domain, templateId=template, fields=[
            {"id": "title", "value": {"stringValue": f"fd probe {n} {i} " + "words " * 20}},
            {"id": "status", "value": {"stringValue": "open"}}])
        i += 1
        done[0] += 1
        if i % 20 == 0:
            c.search_cases(domainId=domain, maxResults=25, searchTerm=f"probe")
writers = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
peak, peak_files, samples = 0, 0, 0
started = time.time()
for w in writers:
    w.start()
while time.time() - started < load_seconds + 60:
    if time.time() - started >= load_seconds and not stop.is_set():
        stop.set()
        print(f"load: {done[0]} creates in {load_seconds:.0f} s; peak so far {peak} descriptors "
              f"({peak_files} index files)", flush=True)
    try:
        n = fds()
        f = index_files()
    except FileNotFoundError:
        continue
    peak, peak_files, samples = max(peak, n), max(peak_files, f), samples + 1
    time.sleep(0.05)
for w in writers:
    w.join()
print(f"during {load_seconds:.0f} s of 16 writers and the 60 s after: peak {peak} descriptors, "
      f"at most {peak_files} files in index/ ({samples} samples); now {fds()}", flush=True)
proc.terminate()
proc.wait()
