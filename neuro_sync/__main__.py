"""`python -m neuro_sync`: the `neuro-sync` command line."""

from neuro_sync.cli import main

if __name__ == "__main__":
    main()
