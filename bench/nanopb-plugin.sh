#!/bin/sh
# protoc-gen-nanopb, run from proto/ so that it finds proto/tnt.options.
#
# The root CMakeLists.txt runs protoc in the build directory, where nanopb
# looks for tnt.options and does not find it: the generated code then uses
# pb_default_field_callback and every string, list and nested field of the
# protobuf codec is silently dropped on encode and decode. bench/run.sh
# passes this wrapper as NANOPB_PLUGIN so the benchmarks measure the codec as
# designed; drop it once the build passes --nanopb_opt=-I<proto dir>.
cd "$(dirname "$0")/../proto" || exit 1
exec protoc-gen-nanopb "$@"
