"""The conformance scenarios fired at a target: ``pytest --pyargs conformance.suite --dlr-target-url URL``.

One module per group of requirements, each test marked with the requirement it judges.
May import: ``contract``, ``delivery``, ``generation``, ``checks``, ``engine`` and the spine.
"""
