"""`python -m ops.national` (`make seed-national`): load the synthetic national programme."""

from ops.national.seed import main

if __name__ == "__main__":
    main()
