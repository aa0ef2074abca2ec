"""The frozen app's entry script: everything happens in rag_desktop.frozen.main_entry.

Kept this small on purpose: before `--runner` is dispatched nothing heavy may be imported
(the runner imports llama_cpp before numpy).
"""

import sys

from rag_desktop.frozen import main_entry

if __name__ == "__main__":
    sys.exit(main_entry(sys.argv[1:]))
