#!/bin/sh
# Add rag-desktop to this user's application menu; run it from the extracted folder.
# It writes ~/.local/share/applications/rag-desktop.desktop (Exec = this folder's binary) and
# the icon; delete those two files to undo it. Nothing outside $HOME is touched.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$DATA/applications" "$DATA/icons/hicolor/256x256/apps"
cp "$HERE/rag-desktop.png" "$DATA/icons/hicolor/256x256/apps/rag-desktop.png"
sed "s|^Exec=.*|Exec=\"$HERE/rag-desktop\"|" "$HERE/rag-desktop.desktop" \
    > "$DATA/applications/rag-desktop.desktop"
echo "installed $DATA/applications/rag-desktop.desktop"
