module github.com/libtnt/libtnt/tests/server

go 1.23.0

require github.com/libtnt/libtnt/bindings/go v0.0.0

replace github.com/libtnt/libtnt/bindings/go => ../../bindings/go
