print("titrate: not yet built")
