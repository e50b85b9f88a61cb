"""``python -m partnerscope``: the command line."""

from partnerscope.cli import main

if __name__ == "__main__":
    main()
