module github.com/ringgate/ringgate/sdk/go

go 1.23
