# Build dist\rag-desktop\ and a .zip of it on Windows (NOT built here; docs/packaging.md).
# Steps: 1. py -3.11 -m venv .venv; .venv\Scripts\pip install torch==2.13.0 (CPU)
#        2. $env:CMAKE_ARGS="-DGGML_NATIVE=OFF"; .venv\Scripts\pip install -e ".[dev]"
#           (needs Visual Studio Build Tools with the C++ workload, for llama.cpp)
#        3. .venv\Scripts\pip install pyinstaller==6.22.3
#        4. powershell -File packaging\windows\build.ps1
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$py = ".venv\Scripts\python.exe"
# The icon: the Linux PNG, converted with Pillow (already a dependency, through matplotlib).
& $py -c "from PIL import Image; Image.open('packaging/linux/rag-desktop.png').save('packaging/windows/rag-desktop.ico', sizes=[(16,16),(32,32),(48,48),(256,256)])"
& $py -m PyInstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\windows\rag-desktop.spec
$version = & $py -c "import rag_desktop; print(rag_desktop.__version__)"
Compress-Archive -Force -Path dist\rag-desktop -DestinationPath "dist\rag-desktop-$version-windows-x64.zip"
