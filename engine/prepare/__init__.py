"""Everything before a talk: the stage table, fingerprints of what is current, the report card."""
