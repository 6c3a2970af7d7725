"""The wire layer shared by the core and the SDK: CDI request and response types (``cdi``), JSON bodies read
under the untrusted-input rules (``body``) and the one verify decision (``verify``). Nothing here does I/O."""
