"""Errors: what a plugin raises at run time, and what the SDK raises at build time.

**Run time.** Raise a :class:`PluginError` subclass from any plugin method to say why the
plugin could not do its work; the host receives it as the contract's ``plugin-error``
variant of the same name:

===================  ====================  ===============================================
exception            ``plugin-error``      when
===================  ====================  ===============================================
:class:`InvalidInput`   ``invalid-input``     the trace or texts are not usable by the plugin
:class:`InvalidConfig`  ``invalid-config``    the plugin's configuration is wrong
:class:`Unavailable`    ``unavailable``       a service it relies on (network, storage) failed
:class:`Failed`         ``failed``            anything else
===================  ====================  ===============================================

Any other exception escaping a plugin method becomes ``failed``, with the exception's type,
its message and the line of the plugin's code it came from, and its whole traceback goes to
the plugin log::

    >>> from flowtrace_plugin import InvalidInput
    >>> err = InvalidInput("the trace has no spans")
    >>> err.message
    'the trace has no spans'

**Build time.** ``cargo flowtrace build`` turns the plugin into a component with
componentize-py, which imports the plugin's module while it builds. Mistakes the SDK can see
then (no exported class, a class of the wrong kind, a module of a capability the manifest
does not declare) raise :class:`BuildError` during that import, so the build fails with a
Python traceback instead of producing a component that fails at run time. The build driver
recognises the last line of that traceback, for example::

    flowtrace_plugin.errors.CapabilityNotDeclared: `flowtrace_plugin.kv` needs capability `storage`: add `storage = true` under `[capabilities]` in flowtrace.toml

and prints it as the build error's ``help:``. Keep these classes in this module and keep
their messages on one line: the driver matches ``flowtrace_plugin.errors.<class>: <message>``.
"""

from __future__ import annotations

__all__ = [
    "BuildError",
    "CapabilityNotDeclared",
    "Failed",
    "InvalidConfig",
    "InvalidInput",
    "NotInComponent",
    "PluginError",
    "Unavailable",
]


class PluginError(Exception):
    """Why a plugin could not do its work; the base of the four kinds the contract knows.

    Raise one of the subclasses; a bare ``PluginError`` is sent as :class:`Failed`. The
    message follows the house style: lowercase, no trailing period, names in backticks.

    >>> try:
    ...     raise InvalidConfig("`threshold` must be between 0 and 1")
    ... except PluginError as err:
    ...     print(err.kind, "-", err)
    invalid-config - `threshold` must be between 0 and 1
    """

    kind: str = "failed"
    """The contract's name of the variant: ``invalid-input``, ``invalid-config``,
    ``unavailable`` or ``failed``."""

    def __init__(self, message: str) -> None:
        """An error with ``message``.

        >>> Unavailable("the embedding service timed out").message
        'the embedding service timed out'
        """
        super().__init__(message)
        self.message: str = message
        """The message, without the kind."""

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidInput(PluginError):
    """The trace or texts given to the plugin are not usable by it.

    >>> raise InvalidInput("span 3 has no id")
    Traceback (most recent call last):
    ...
    flowtrace_plugin.errors.InvalidInput: span 3 has no id
    """

    kind = "invalid-input"


class InvalidConfig(PluginError):
    """The plugin's configuration is wrong; what :func:`flowtrace_plugin.config.require`
    raises for a missing value or a value of the wrong type.

    >>> InvalidConfig("`model` is empty").kind
    'invalid-config'
    """

    kind = "invalid-config"


class Unavailable(PluginError):
    """A service the plugin relies on (network, embeddings, storage) failed.

    >>> Unavailable("the key-value store is full").kind
    'unavailable'
    """

    kind = "unavailable"


class Failed(PluginError):
    """Anything else.

    >>> Failed("unsupported format `xml`").kind
    'failed'
    """

    kind = "failed"


class BuildError(Exception):
    """A mistake in the plugin found while ``cargo flowtrace build`` imports it: the build
    fails with this error's message as its last traceback line.

    >>> raise BuildError("`app.py` exports no plugin")
    Traceback (most recent call last):
    ...
    flowtrace_plugin.errors.BuildError: `app.py` exports no plugin
    """


class CapabilityNotDeclared(BuildError):
    """The plugin imports a module of the SDK whose capability its manifest does not
    declare, so the component has no such host interface.

    ``flowtrace_plugin.kv`` needs ``storage = true``, ``flowtrace_plugin.traces`` needs
    ``traces = true`` and ``flowtrace_plugin.embeddings`` needs ``embeddings = true``, each
    under ``[capabilities]`` in flowtrace.toml.

    >>> err = CapabilityNotDeclared("kv", "storage")
    >>> print(err)
    `flowtrace_plugin.kv` needs capability `storage`: add `storage = true` under `[capabilities]` in flowtrace.toml
    >>> err.capability
    'storage'
    """

    def __init__(self, module: str, capability: str) -> None:
        """The error for SDK module ``module`` (``kv``), which needs ``capability``
        (``storage``).

        >>> CapabilityNotDeclared("traces", "traces").module
        'flowtrace_plugin.traces'
        """
        self.module: str = f"flowtrace_plugin.{module}"
        """The SDK module imported, e.g. ``flowtrace_plugin.kv``."""
        self.capability: str = capability
        """The capability to declare, e.g. ``storage``."""
        line = (
            'network = { hosts = ["api.example.com"] }'
            if capability == "network"
            else f"{capability} = true"
        )
        super().__init__(
            f"`{self.module}` needs capability `{capability}`: add `{line}` "
            "under `[capabilities]` in flowtrace.toml"
        )


class NotInComponent(RuntimeError):
    """A function that calls the Flowtrace host was called outside a component (in a plain
    Python interpreter, e.g. a unit test), where there is no host.

    Build the plugin with ``cargo flowtrace build`` and run it with ``cargo flowtrace
    test``; in unit tests, build traces with :meth:`flowtrace_plugin.Trace.from_data` and
    give host functions a stand-in with :func:`flowtrace_plugin.testing.host`.

    >>> str(NotInComponent("flowtrace_plugin.config.get")).startswith("`flowtrace_plugin.config.get` calls")
    True
    """

    def __init__(self, function: str) -> None:
        """The error for a call to ``function`` (its dotted name).

        >>> NotInComponent("flowtrace_plugin.log.info").function
        'flowtrace_plugin.log.info'
        """
        self.function: str = function
        """The dotted name of the function called."""
        super().__init__(
            f"`{function}` calls the Flowtrace host, which only exists inside a component "
            "built by `cargo flowtrace build`; in unit tests, wrap the call in "
            "`with flowtrace_plugin.testing.host(...):`"
        )
