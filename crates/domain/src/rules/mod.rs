//! Case rules ("case field conditions" in the admin website): `required`, `hidden` and
//! `fieldOptions` rules that templates attach to fields.
//!
//! - `definition`: the stored document (`CaseRuleDoc`), the checks a rule passes before it is
//!   saved (fields exist, operands fit their field's type, at most 5 conditions over 2 levels),
//!   what a template may attach it to, and its compilation for `eval`.
//! - `eval`: evaluation as pure functions over a case's values; the semantics are documented there.
//! - `enforce`: what a template's rules demand of a case write; `load`: fetching those rules.
//! - `operations`: CreateCaseRule, BatchGetCaseRule, ListCaseRules, UpdateCaseRule, DeleteCaseRule.

pub mod definition;
pub mod enforce;
pub mod eval;
pub(crate) mod load;
pub(crate) mod operations;

#[cfg(test)]
mod tests;
