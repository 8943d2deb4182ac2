from braggcheck.cli.main import main

raise SystemExit(main())
