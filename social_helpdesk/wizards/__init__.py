from . import social_identity_link_wizard
