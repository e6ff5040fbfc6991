#!/usr/bin/env bash
# Build Mynah.app and a compressed disk image on macOS.
#
#   packaging/macos/make_dmg.sh            -> dist/Mynah.app, dist/Mynah-<version>.dmg
#
# Needs: the project's venv with `pip install -e ".[package]"` and Pillow (PyInstaller turns the
# 512 px PNG icon into .icns with it). The .app's Info.plist (NSMicrophoneUsageDescription, the
# bundle id io.github.mynah.Mynah, document types) comes from packaging/mynah.spec.
# Signing/notarization is not done here: set CODESIGN_IDENTITY to sign the .app before the dmg.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
VERSION=$("$PY" -c 'import studio; print(studio.__version__)')

QT_QPA_PLATFORM=offscreen "$PY" packaging/icons/render_icons.py build/icons >/dev/null
"$PY" -m PyInstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/mynah.spec

APP=dist/Mynah.app
test -d "$APP" || { echo "PyInstaller did not produce $APP" >&2; exit 1; }
if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --deep --force --options runtime --sign "$CODESIGN_IDENTITY" "$APP"
fi
"$APP/Contents/MacOS/mynah-cli" --version

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
DMG="dist/Mynah-$VERSION.dmg"
rm -f "$DMG"
hdiutil create -volname "Mynah $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -imagekey zlib-level=9 "$DMG"
echo "built $DMG"
