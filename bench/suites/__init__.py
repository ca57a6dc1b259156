"""Suite loaders, one package per benchmark, each registered by name through `claw.suites`."""
