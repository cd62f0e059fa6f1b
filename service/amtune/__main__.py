from amtune.cli import main

raise SystemExit(main())
