from collection_compiler.cli import main

raise SystemExit(main())
