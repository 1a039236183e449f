"""neuro-sync tests: a package, so that every directory can import the shared `tests.support`."""
