"""``python -m simulation`` is the ``repatsim`` command."""

from simulation.cli import main

raise SystemExit(main())
