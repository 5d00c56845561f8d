"""The `rules.runtime` check: torch calls recorded in a child (`probe`), judged in the parent (`judge`)."""
