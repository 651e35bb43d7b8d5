from __future__ import annotations

from ketaplan.cli import main

if __name__ == "__main__":
    main()
