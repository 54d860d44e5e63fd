"""The report card: its data (:mod:`.model`), its sections (:mod:`.sections`), plots, the
EU-transparency CSV and the renderings to HTML, JSON and Markdown (:mod:`.report`)."""
