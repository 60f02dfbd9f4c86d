# Passed to every CMake build of the workspace (see .cargo/config.toml) as CMAKE_TOOLCHAIN_FILE.
# It only narrows what libheif (built from source by libheif-sys for AVIF and HEIC input) may
# find on the build machine: dav1d (AV1 → AVIF) and libde265 (HEVC → HEIC) and nothing else, so
# the binary links no second JPEG codec (libjpeg-turbo is already built in by the turbojpeg crate)
# and no encoder we do not use. Setting only CMAKE_DISABLE_FIND_PACKAGE_* leaves compilers and
# flags to CMake's defaults; libjpeg-turbo's own build does not look for any of these packages.
foreach(package JPEG AOM X265 X264 OpenH264 OpenJPEG kvazaar SvtEnc RAV1E OPENJPH LIBSHARPYUV
                UVG266 vvdec vvenc FFMPEG)
  set(CMAKE_DISABLE_FIND_PACKAGE_${package} ON CACHE BOOL "pixelway: not linked" FORCE)
endforeach()
