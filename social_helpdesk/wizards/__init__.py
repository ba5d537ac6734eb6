from . import social_identity_link_wizard
from . import social_reply_wizard
