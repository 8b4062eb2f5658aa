"""The shell that hosts the chapters: the App, navigation, header, help, themes and the CLI."""

import warnings

__version__ = "0.1.0"

# asyncssh (the SSH server) still names DSA keys, which newer releases of cryptography warn
# about when it is imported; the server never offers DSA, and the warning would land on the
# presenter's terminal.
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"asyncssh\.")
