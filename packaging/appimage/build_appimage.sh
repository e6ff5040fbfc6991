#!/usr/bin/env bash
# Build Mynah-<version>-<arch>.AppImage from the PyInstaller bundle, offline.
#
#   packaging/appimage/build_appimage.sh RUNTIME [OUT]
#
# RUNTIME: the AppImage type-2 runtime for this architecture (the `runtime-x86_64` file from
#   github.com/AppImage/type2-runtime releases), obtained beforehand: this script downloads nothing.
# OUT: default dist/Mynah-<version>-<arch>.AppImage
# Needs dist/mynah from `make package`, and either appimagetool (used with --runtime-file RUNTIME)
# or mksquashfs (squashfs-tools): an AppImage is the runtime followed by a squashfs of the AppDir.
# APPDIR_ONLY=1 stops after assembling build/appimage/Mynah.AppDir (no runtime needed).
# COMP (default zstd, which the current type-2 runtime reads; gzip for old runtimes).
set -euo pipefail
cd "$(dirname "$0")/../.."
ID=io.github.mynah.Mynah
PY=${PY:-.venv/bin/python}
VERSION=$("$PY" -c 'import studio; print(studio.__version__)')
ARCH=$(uname -m)
RUNTIME=${1:-}
OUT=${2:-dist/Mynah-$VERSION-$ARCH.AppImage}
COMP=${COMP:-zstd}
if [ -z "${APPDIR_ONLY:-}" ] && { [ -z "$RUNTIME" ] || [ ! -f "$RUNTIME" ]; }; then
  echo "usage: $0 RUNTIME [OUT]   (RUNTIME: the AppImage type-2 runtime file; nothing is downloaded)" >&2
  exit 2
fi
test -x dist/mynah/mynah || { echo "no dist/mynah: run make package first" >&2; exit 1; }

APPDIR=build/appimage/Mynah.AppDir
rm -rf "$APPDIR"
mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/share"
cp -a dist/mynah "$APPDIR/usr/lib/mynah"
rm -rf "$APPDIR/usr/lib/mynah/share"
cp -a dist/mynah/share/. "$APPDIR/usr/share/"
cp "$APPDIR/usr/share/applications/$ID.desktop" "$APPDIR/$ID.desktop"
cp "$APPDIR/usr/share/icons/hicolor/256x256/apps/$ID.png" "$APPDIR/$ID.png"
cp "$APPDIR/$ID.png" "$APPDIR/.DirIcon"
cat > "$APPDIR/AppRun" <<'RUN'
#!/bin/sh
# `Mynah.AppImage` opens the studio; `Mynah.AppImage cli self-check` runs mynah-cli.
HERE=$(dirname "$(readlink -f "$0")")
if [ "$1" = "cli" ]; then shift; exec "$HERE/usr/lib/mynah/mynah-cli" "$@"; fi
exec "$HERE/usr/lib/mynah/mynah" "$@"
RUN
chmod +x "$APPDIR/AppRun"
"$APPDIR/AppRun" --version
if [ -n "${APPDIR_ONLY:-}" ]; then echo "assembled $APPDIR"; exit 0; fi

mkdir -p "$(dirname "$OUT")"
if command -v appimagetool >/dev/null 2>&1; then
  ARCH=$ARCH appimagetool --runtime-file "$RUNTIME" --comp "$COMP" --no-appstream "$APPDIR" "$OUT"
else
  command -v mksquashfs >/dev/null || { echo "need appimagetool or mksquashfs (squashfs-tools)" >&2; exit 1; }
  IMG=build/appimage/Mynah.squashfs
  rm -f "$IMG"
  mksquashfs "$APPDIR" "$IMG" -root-owned -noappend -comp "$COMP" -quiet
  cat "$RUNTIME" "$IMG" > "$OUT"
  chmod +x "$OUT"
fi
echo "built $OUT"
