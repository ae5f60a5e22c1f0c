"""Platform → Touchpoint: registrants by status tag, session related links, event identity.

Pure planning (`attendees`, `links`, `identity`) is separate from the HTTP work (`api`,
`sync`, `platform`), so each rule is unit-tested without a server. docs/touchpoint.md.
"""
