"""One module per `harness` verb; each parses arguments and calls the library."""
