"""The all-in-one launcher: the services as local processes, and ``lesde up`` / ``lesde demo``.

It lives apart from ``lesde`` (the contract, the client and the CLI) because it is the one
package that must know the services by name.
"""
