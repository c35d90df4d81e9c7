module opencoro/bench/peers/go

go 1.19
