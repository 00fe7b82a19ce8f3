module github.com/sprocketrun/sprocket

go 1.26
