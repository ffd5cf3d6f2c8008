"""faust tables (changelog-backed state), one module each."""
