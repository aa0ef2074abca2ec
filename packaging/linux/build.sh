#!/usr/bin/env bash
# Build the Linux one-folder app and its tarball:
#   dist/rag-desktop/                                   the app (run dist/rag-desktop/rag-desktop)
#   dist/rag-desktop-VERSION-linux-ARCH.tar.gz          the same folder, with the .desktop entry
#   dist/build-info.json                                variant, build seconds, sizes
# RAG_BUNDLE_TORCH=1 / RAG_BUNDLE_GEMMA=1 add the optional parts (packaging/common/bundle.py).
# build/pyinstaller is PyInstaller's work folder: reused when present, never required.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
DIST=${DIST:-dist}
WORK=${WORK:-build/pyinstaller}
start=$(date +%s)

"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath "$DIST" --workpath "$WORK" \
    packaging/linux/rag-desktop.spec
built=$(date +%s)

APP="$DIST/rag-desktop"
cp packaging/linux/rag-desktop.desktop packaging/linux/rag-desktop.png \
   packaging/linux/install-desktop-entry.sh "$APP/"
for doc in LICENSE THIRD_PARTY.md; do [ -f "$doc" ] && cp "$doc" "$APP/"; done

VERSION=$("$PY" -c 'import rag_desktop; print(rag_desktop.__version__)')
TARBALL="$DIST/rag-desktop-$VERSION-linux-$(uname -m).tar.gz"
rm -f "$DIST"/rag-desktop-*-linux-*.tar.gz
# pigz uses every core when it is there; the GGUF and weights barely compress, so level 6 is
# already near the smallest size.
if command -v pigz >/dev/null; then GZ="pigz -6"; else GZ="gzip -6"; fi
tar -C "$DIST" -cf - rag-desktop | $GZ > "$TARBALL"
done_at=$(date +%s)

"$PY" - "$APP" "$TARBALL" "$((built - start))" "$((done_at - start))" <<'PY'
import json, os, sys
from pathlib import Path
app, tarball, pyi_s, total_s = Path(sys.argv[1]), Path(sys.argv[2]), *map(int, sys.argv[3:])
folder = sum(p.lstat().st_size for p in app.rglob("*") if p.is_file() and not p.is_symlink())
info = {"variant": "-".join(k for k in ("torch", "gemma")
                            if os.environ.get(f"RAG_BUNDLE_{k.upper()}") == "1") or "lean",
        "pyinstaller_s": pyi_s, "build_s": total_s, "folder_mb": round(folder / 2**20, 1),
        "tarball_mb": round(tarball.stat().st_size / 2**20, 1), "tarball": tarball.name}
(app.parent / "build-info.json").write_text(json.dumps(info, indent=1) + "\n")
print(json.dumps(info))
PY
