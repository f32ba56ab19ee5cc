import sys

from theory._runner import main

sys.exit(main())
