"""The pattern of the Channels documentation, as a baseline for the gateway.

A `post_save` receiver on UserActivity serializes the row and `group_send`s it to the
group of its workspace group; every socket is a consumer that joins that group with
its own channel and encodes the event with `send_json`. Nothing is numbered, logged
or replayed, and the event leaves before the transaction commits.
"""
