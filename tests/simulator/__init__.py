"""Tests of the Webex API simulator."""
