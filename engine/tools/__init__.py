"""Tools the chat model can call, and the loop that lets it call them.

``parser`` reads a call out of model output, ``registry`` holds the tools (``search``,
``weather``, ``calculator``) with their limits, ``loop`` runs the talk's tool call loop
around a model, and ``evaluate`` checks the call format on cities the model never saw.
"""
