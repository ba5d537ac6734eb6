from . import helpdesk_ticket_channel
from . import social_account
from . import social_event
from . import social_identity
from . import social_message
from . import res_partner
from . import helpdesk_ticket
