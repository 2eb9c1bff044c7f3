"""Hand-written behaviour of the generated resources, one module per resource.

A generated resource class `AsyncX` inherits from `AsyncXExtras` when a module here
defines one (the generator finds it by name), so helpers such as `stream()`,
`parse()`, `connect()` or `create_and_poll()` sit beside the generated methods
without editing generated code. An extras class may also define
`_before_<method>(body)`, which the generated method then calls to adjust the
request body and choose the response decoder. A module `extras/<name>.py` whose
class `Async<Name>Extras` matches no resource of the spec becomes a resource of
its own, `client.<name>` (`webhooks`, whose helpers call no operation).
"""
