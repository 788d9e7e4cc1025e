"""Tests that the suite catches every faulty receiver, and passes the correct ones."""
