"""The reference endpoint's 91 activity types: values, labels and categories."""

from django.db import models


class ActivityType(models.IntegerChoices):
    """What happened; values and labels are those of the reference endpoint, exactly."""

    USER_LOGIN = 100, "User Login"
    USER_LOGOUT = 101, "User Logout"
    GAME_CREATED = 200, "Game Created"
    GAME_JOINED = 201, "Game Joined"
    GAME_LEFT = 202, "Game Left"
    GAME_STARTED = 203, "Game Started"
    GAME_COMPLETED = 204, "Game Completed"
    GAME_WON = 205, "Game Won"
    DAILY_STREAK = 250, "Daily Streak"
    ELO_GAINED = 300, "Elo Gained"
    ELO_LOST = 301, "Elo Lost"
    XP_GAINED = 400, "XP Gained"
    RESOURCE_VIEWED = 500, "Resource Viewed"
    RESOURCE_LIKED = 501, "Resource Liked"
    RESOURCE_UNLIKED = 502, "Resource Unliked"
    RESOURCE_SHARED = 503, "Resource Shared"
    RESOURCE_BOOKMARKED = 504, "Resource Bookmarked"
    RESOURCE_UNBOOKMARKED = 505, "Resource Unbookmarked"
    RESOURCE_COMMENTED = 506, "Resource Commented"
    RESOURCE_CREATED = 507, "Resource Created"
    RESOURCE_UPDATED = 508, "Resource Updated"
    RESOURCE_DELETED = 509, "Resource Deleted"
    QUEST_CREATED = 600, "Quest Created"
    QUEST_VIEWED = 601, "Quest Viewed"
    QUEST_UPDATED = 602, "Quest Updated"
    QUEST_DELETED = 603, "Quest Deleted"
    QUEST_PLAYED = 604, "Quest Played"
    QUEST_COMPLETED = 605, "Quest Completed"
    QUEST_LEADERBOARD_VIEWED = 606, "Quest Leaderboard Viewed"
    PUBLICATION_CREATED = 700, "Publication Created"
    PUBLICATION_VIEWED = 701, "Publication Viewed"
    PUBLICATION_UPDATED = 702, "Publication Updated"
    PUBLICATION_DELETED = 703, "Publication Deleted"
    BLOG_CREATED = 750, "Blog Created"
    BLOG_VIEWED = 751, "Blog Viewed"
    BLOG_READ = 752, "Blog Read"
    BLOG_UPDATED = 753, "Blog Updated"
    BLOG_DELETED = 754, "Blog Deleted"
    BLOG_BOOKMARKED = 755, "Blog Bookmarked"
    BLOG_UNBOOKMARKED = 756, "Blog Unbookmarked"
    BLOG_PREVIEWED = 757, "Blog Previewed"
    EXPERIENCE_CREATED = 800, "Experience Created"
    EXPERIENCE_VIEWED = 801, "Experience Viewed"
    EXPERIENCE_UPDATED = 802, "Experience Updated"
    EXPERIENCE_DELETED = 803, "Experience Deleted"
    EXPERIENCE_PUBLISHED = 804, "Experience Published"
    EXPERIENCE_AUTOFILLED = 805, "Experience Autofilled"
    EXPERIENCE_BULK_DELETED = 806, "Experience Bulk Deleted"
    AI_DOMAIN_CREATED = 900, "AI Domain Created"
    AI_DOMAIN_VIEWED = 901, "AI Domain Viewed"
    AI_DOMAIN_UPDATED = 902, "AI Domain Updated"
    AI_DOMAIN_DELETED = 903, "AI Domain Deleted"
    AI_DOMAIN_SAVED = 904, "AI Domain Saved"
    AI_QUESTION_GENERATED = 905, "AI Question Generated"
    AI_ANSWER_GENERATED = 906, "AI Answer Generated"
    AI_EXPLANATION_GENERATED = 907, "AI Explanation Generated"
    AI_CHECKER_GENERATED = 908, "AI Checker Generated"
    AI_OPTIONS_GENERATED = 909, "AI Options Generated"
    AI_CHAT_STARTED = 910, "AI Chat Started"
    AI_CHAT_MESSAGE_SENT = 911, "AI Chat Message Sent"
    AI_DOMAIN_KNOWLEDGE_REBUILT = 912, "AI Domain Knowledge Rebuilt"
    AI_KNOWLEDGE_SEARCHED = 913, "AI Knowledge Searched"
    PODCAST_CREATED = 1000, "Podcast Created"
    PODCAST_VIEWED = 1001, "Podcast Viewed"
    PODCAST_LISTENED = 1002, "Podcast Listened"
    PODCAST_UPDATED = 1003, "Podcast Updated"
    PODCAST_DELETED = 1004, "Podcast Deleted"
    VIDEO_CREATED = 1050, "Video Created"
    VIDEO_VIEWED = 1051, "Video Viewed"
    VIDEO_UPDATED = 1052, "Video Updated"
    VIDEO_DELETED = 1053, "Video Deleted"
    VIDEO_PUBLISHED = 1054, "Video Published"
    VIDEO_REGENERATED = 1055, "Video Regenerated"
    CONTENT_DOCUMENT_CREATED = 1100, "Content Document Created"
    CONTENT_DOCUMENT_VIEWED = 1101, "Content Document Viewed"
    CONTENT_DOCUMENT_UPDATED = 1102, "Content Document Updated"
    CONTENT_DOCUMENT_DELETED = 1103, "Content Document Deleted"
    CONTENT_DOCUMENT_REPROCESSED = 1104, "Content Document Reprocessed"
    COLLECTION_CREATED = 1400, "Collection Created"
    COLLECTION_VIEWED = 1401, "Collection Viewed"
    COLLECTION_UPDATED = 1402, "Collection Updated"
    COLLECTION_DELETED = 1403, "Collection Deleted"
    COLLECTION_EXPERIENCE_ADDED = 1404, "Collection Experience Added"
    COLLECTION_EXPERIENCE_REMOVED = 1405, "Collection Experience Removed"
    COLLECTION_EXPERIENCE_REORDERED = 1406, "Collection Experience Reordered"
    PROFILE_UPDATED = 1200, "Profile Updated"
    PROFILE_PICTURE_UPDATED = 1201, "Profile Picture Updated"
    PROFILE_VIEWED = 1202, "Profile Viewed"
    USER_FOLLOWED = 1300, "User Followed"
    USER_UNFOLLOWED = 1301, "User Unfollowed"
    USER_PROFILE_VISITED = 1302, "User Profile Visited"


class Category(models.TextChoices):
    """Families of activity types, used to colour and count them."""

    SESSION = "session", "Session"
    GAME = "game", "Game"
    STREAK = "streak", "Streak"
    ELO = "elo", "Elo"
    XP = "xp", "XP"
    RESOURCE = "resource", "Resource"
    QUEST = "quest", "Quest"
    PUBLICATION = "publication", "Publication"
    BLOG = "blog", "Blog"
    EXPERIENCE = "experience", "Experience"
    AI = "ai", "AI"
    PODCAST = "podcast", "Podcast"
    VIDEO = "video", "Video"
    DOCUMENT = "document", "Content document"
    PROFILE = "profile", "Profile"
    SOCIAL = "social", "Social"
    COLLECTION = "collection", "Collection"


# Each family owns a block of values: a type's category is that of the highest
# block start at or below its value.
_CATEGORY_STARTS: tuple[tuple[int, Category], ...] = (
    (1400, Category.COLLECTION),
    (1300, Category.SOCIAL),
    (1200, Category.PROFILE),
    (1100, Category.DOCUMENT),
    (1050, Category.VIDEO),
    (1000, Category.PODCAST),
    (900, Category.AI),
    (800, Category.EXPERIENCE),
    (750, Category.BLOG),
    (700, Category.PUBLICATION),
    (600, Category.QUEST),
    (500, Category.RESOURCE),
    (400, Category.XP),
    (300, Category.ELO),
    (250, Category.STREAK),
    (200, Category.GAME),
    (100, Category.SESSION),
)


def category_of(value: int) -> Category:
    """The family an activity type value belongs to."""
    for start, category in _CATEGORY_STARTS:
        if value >= start:
            return category
    raise ValueError(f"{value} is not an activity type")
