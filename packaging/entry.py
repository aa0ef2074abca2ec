"""The frozen app's entry script: everything happens in rag_desktop.entry.main_entry.

Kept this small on purpose: before `--runner` is dispatched nothing heavy may be imported
(the runner imports llama_cpp before numpy).
"""

import sys

from rag_desktop.entry import main_entry

if __name__ == "__main__":
    sys.exit(main_entry(sys.argv[1:]))
