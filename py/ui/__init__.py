"""The PyScript UI on the page (MicroPython): views, components and the client side of the protocol."""
