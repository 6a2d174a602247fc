module libtnt.invalid/bench/floor

go 1.23.0
