"""Tests of the developer loop: serve, send, stored and validate, as a receiver's developer uses them."""
