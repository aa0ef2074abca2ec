#!/usr/bin/env bash
# Build dist/rag-desktop.app and a .zip of it on macOS (NOT built here; docs/packaging.md).
# Steps: 1. make setup with Metal:  make setup LLAMA_CMAKE_ARGS="-DGGML_METAL=on"
#        2. .venv/bin/pip install pyinstaller==6.22.3
#        3. packaging/macos/build.sh
#        4. sign and notarise (codesign --deep --options runtime; xcrun notarytool) to
#           distribute outside this machine; an unsigned .app opens only with right-click > Open.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
# The icon: the Linux PNG, converted with the tools every macOS has.
ICONSET=build/rag-desktop.iconset
mkdir -p "$ICONSET"
for s in 16 32 128 256; do
    sips -z $s $s packaging/linux/rag-desktop.png --out "$ICONSET/icon_${s}x${s}.png" >/dev/null
done
iconutil -c icns "$ICONSET" -o packaging/macos/rag-desktop.icns
"$PY" -m PyInstaller --noconfirm --distpath dist --workpath build/pyinstaller \
    packaging/macos/rag-desktop.spec
VERSION=$("$PY" -c 'import rag_desktop; print(rag_desktop.__version__)')
ditto -c -k --keepParent dist/rag-desktop.app "dist/rag-desktop-$VERSION-macos-$(uname -m).zip"
