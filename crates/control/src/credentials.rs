//! Credentials checks shared by every surface, compared in constant time.

use subtle::ConstantTimeEq;

/// Whether `presented` is the operator's admin token. An empty configured token matches nothing.
pub fn admin_token_matches(configured: &str, presented: &str) -> bool {
    !configured.is_empty() && bool::from(configured.as_bytes().ct_eq(presented.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_token_never_matches() {
        assert!(!admin_token_matches("", ""));
        assert!(admin_token_matches("t0ken", "t0ken"));
        assert!(!admin_token_matches("t0ken", "t0ke"));
    }
}
