"""What runs the official SDK's `tests/api_resources` against a client.

Imported as `sdk_suite_harness` inside the suite's pytest process, whose `tests`
package is the official one; its modules import each other relatively only.
"""
