export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** An instant in UTC, as ISO-8601 with milliseconds: 2026-11-24T09:30:00.000Z. Codegen: map to string. */
  DateTime: { input: string; output: string; }
  /** A JSON object whose values are strings or lists of strings (tags): at most 16 keys, each key 1-64 characters, each string at most 512 characters, each list at most 32 strings. Keys are stored and returned literally (dots and a leading $ included). As a filter, a string matches a value equal to it or a list holding it; a list matches when every one of its strings does. Codegen: map to Record<string, string | string[]>. */
  Metadata: { input: Record<string, string | string[]>; output: Record<string, string | string[]>; }
};

/** A note on a span of a text part. */
export type Annotation = FileCitationAnnotation | FilePathAnnotation;

/** Text to append to a message in progress. */
export type AppendMessageTextInput = {
  /** The text to append (1-256,000 characters). */
  delta: Scalars['String']['input'];
  /** The message, IN_PROGRESS. */
  id: Scalars['ID']['input'];
};

/** The message after the text was appended. */
export type AppendMessageTextPayload = {
  __typename?: 'AppendMessageTextPayload';
  /** The cursor of the thread event this write recorded (null if the thread went meanwhile): threadEvents(after:) from it delivers exactly what happens after this write. */
  eventCursor?: Maybe<Scalars['String']['output']>;
  /** The message after the change. */
  message: Message;
};

/** Resources of the code interpreter tool. */
export type CodeInterpreterInput = {
  /** At most 20 file ids. */
  fileIds: Array<Scalars['String']['input']>;
};

/** Tools' resources available to the thread's runs. */
export type CodeInterpreterResources = {
  __typename?: 'CodeInterpreterResources';
  /** Files the code interpreter can use. */
  fileIds: Array<Scalars['String']['output']>;
};

/** How a message in progress ends. */
export type CompleteMessageInput = {
  /** The message, IN_PROGRESS. */
  id: Scalars['ID']['input'];
  /** Why it is INCOMPLETE (at most 128 characters). */
  incompleteReason?: InputMaybe<Scalars['String']['input']>;
  /** COMPLETED or INCOMPLETE. */
  status?: MessageStatus;
};

/** The finished message. */
export type CompleteMessagePayload = {
  __typename?: 'CompleteMessagePayload';
  /** The cursor of the thread event this write recorded (null if the thread went meanwhile): threadEvents(after:) from it delivers exactly what happens after this write. */
  eventCursor?: Maybe<Scalars['String']['output']>;
  /** The message, COMPLETED or INCOMPLETE. */
  message: Message;
};

/** One part of a message: exactly one field is set. */
export type ContentPartInput =
  /** An image file. */
  { imageFile: ImageFileInput; imageUrl?: never; text?: never; }
  |  /** An image URL. */
  { imageFile?: never; imageUrl: ImageUrlInput; text?: never; }
  |  /** A text part. */
  { imageFile?: never; imageUrl?: never; text: Scalars['String']['input']; };

/** A message to add to a thread. */
export type CreateMessageInput = {
  /** Writing assistant. */
  assistantId?: InputMaybe<Scalars['String']['input']>;
  /** Plain text, 1-256,000 characters. */
  content?: InputMaybe<Scalars['String']['input']>;
  /** Parts: text and images (1-32). */
  contentParts?: InputMaybe<Array<ContentPartInput>>;
  /** Up to 255 characters of your choice. A retry with the same key and input returns the first result and writes nothing; the same key with another input is a CONFLICT. Kept 24 hours. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** Key-value pairs. */
  metadata?: InputMaybe<Scalars['Metadata']['input']>;
  /** Who wrote it. */
  role?: MessageRole;
  /** Writing run. */
  runId?: InputMaybe<Scalars['String']['input']>;
  /** IN_PROGRESS starts an ASSISTANT message that appendMessageText streams into (from `content`) and completeMessage finishes. */
  status?: MessageStatus;
  /** The thread to add it to. */
  threadId: Scalars['ID']['input'];
};

/** The created message and its thread. */
export type CreateMessagePayload = {
  __typename?: 'CreateMessagePayload';
  /** The cursor of the thread event this write recorded (null if the thread went meanwhile): threadEvents(after:) from it delivers exactly what happens after this write. */
  eventCursor?: Maybe<Scalars['String']['output']>;
  /** The new message. */
  message: Message;
  /** Its thread, after the change. */
  thread: Thread;
};

/** A new thread, optionally with its first messages. */
export type CreateThreadInput = {
  /** Bound assistant. */
  assistantId?: InputMaybe<Scalars['String']['input']>;
  /** Up to 255 characters of your choice. A retry with the same key and input returns the first result and writes nothing; the same key with another input is a CONFLICT. Kept 24 hours. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** Up to 100 messages, kept in this order. */
  messages?: InputMaybe<Array<MessageInput>>;
  /** Key-value pairs. */
  metadata?: InputMaybe<Scalars['Metadata']['input']>;
  /** At most 200 characters. */
  title?: InputMaybe<Scalars['String']['input']>;
  /** Resources for the assistant's tools. */
  toolResources?: InputMaybe<ToolResourcesInput>;
  /** Whether UIs list it. */
  visibleInUi?: Scalars['Boolean']['input'];
};

/** The created thread. */
export type CreateThreadPayload = {
  __typename?: 'CreateThreadPayload';
  /** The cursor of the new thread's start: threadEvents(after:) from it delivers every event of the thread. */
  eventCursor: Scalars['String']['output'];
  /** The new thread. */
  thread: Thread;
};

/** The message to delete. */
export type DeleteMessageInput = {
  /** The message. */
  id: Scalars['ID']['input'];
};

/** What was deleted, and the thread it was in. */
export type DeleteMessagePayload = {
  __typename?: 'DeleteMessagePayload';
  /** Always true: failures are errors. */
  deleted: Scalars['Boolean']['output'];
  /** The cursor of the thread event this write recorded (null if the thread went meanwhile): threadEvents(after:) from it delivers exactly what happens after this write. */
  eventCursor?: Maybe<Scalars['String']['output']>;
  /** The deleted message's id. */
  id: Scalars['ID']['output'];
  /** Its thread, after the change. */
  thread: Thread;
};

/** The thread to delete, with all its messages. */
export type DeleteThreadInput = {
  /** The thread. */
  id: Scalars['ID']['input'];
  /** Remove it for good at once (from the trash too) instead of moving it to the trash. */
  permanent?: Scalars['Boolean']['input'];
};

/** What was deleted. */
export type DeleteThreadPayload = {
  __typename?: 'DeleteThreadPayload';
  /** Always true: failures are errors. */
  deleted: Scalars['Boolean']['output'];
  /** The cursor of the thread event this write recorded (null if the thread went meanwhile): threadEvents(after:) from it delivers exactly what happens after this write. */
  eventCursor?: Maybe<Scalars['String']['output']>;
  /** The deleted thread's id. */
  id: Scalars['ID']['output'];
};

/** A span of text that cites a file. */
export type FileCitationAnnotation = {
  __typename?: 'FileCitationAnnotation';
  /** End of the span in the text value. */
  endIndex: Scalars['Int']['output'];
  /** The cited file. */
  fileId: Scalars['String']['output'];
  /** Start of the span in the text value. */
  startIndex: Scalars['Int']['output'];
  /** The text in the message that is annotated. */
  text: Scalars['String']['output'];
};

/** A span of text that is a path to a generated file. */
export type FilePathAnnotation = {
  __typename?: 'FilePathAnnotation';
  /** End of the span in the text value. */
  endIndex: Scalars['Int']['output'];
  /** The generated file. */
  fileId: Scalars['String']['output'];
  /** Start of the span in the text value. */
  startIndex: Scalars['Int']['output'];
  /** The text in the message that is annotated. */
  text: Scalars['String']['output'];
};

/** Resources of the file search tool. */
export type FileSearchInput = {
  /** At most one vector store id. */
  vectorStoreIds: Array<Scalars['String']['input']>;
};

/** Vector stores that file search can use. */
export type FileSearchResources = {
  __typename?: 'FileSearchResources';
  /** At most one vector store id. */
  vectorStoreIds: Array<Scalars['String']['output']>;
};

/** Where a fork (forkThread) came from. */
export type ForkOrigin = {
  __typename?: 'ForkOrigin';
  /** The last message copied; null once it or its thread is deleted. */
  message?: Maybe<Message>;
  /** The id of the last message copied from it; null if it had none. */
  messageId?: Maybe<Scalars['ID']['output']>;
  /** The thread forked; null once it is deleted. */
  thread?: Maybe<Thread>;
  /** The id of the thread forked. */
  threadId: Scalars['ID']['output'];
};

/** A thread to fork: its messages are copied into a new thread. */
export type ForkThreadInput = {
  /** Up to 255 characters of your choice. A retry with the same key and input returns the first result and writes nothing; the same key with another input is a CONFLICT. Kept 24 hours. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** Key-value pairs; null: the source's. */
  metadata?: InputMaybe<Scalars['Metadata']['input']>;
  /** The thread to fork, in any state. */
  threadId: Scalars['ID']['input'];
  /** At most 200 characters; null: the source's. */
  title?: InputMaybe<Scalars['String']['input']>;
  /** The last message to copy (a message of the thread); all if null. */
  upToMessageId?: InputMaybe<Scalars['ID']['input']>;
};

/** The fork: a new thread with copies of the source's messages. */
export type ForkThreadPayload = {
  __typename?: 'ForkThreadPayload';
  /** The cursor of the fork's start: threadEvents(after:) from it delivers every event of the fork. Forking records no event on the source. */
  eventCursor: Scalars['String']['output'];
  /** The new ACTIVE thread; `forkedFrom` links back. */
  thread: Thread;
};

/** The detail level at which a model should look at an image. */
export type ImageDetail =
  /** The model chooses the detail level. */
  | 'AUTO'
  /** A high-resolution view, for fine detail. */
  | 'HIGH'
  /** A low-resolution view: faster and cheaper. */
  | 'LOW';

/** An uploaded image file. */
export type ImageFile = {
  __typename?: 'ImageFile';
  /** Detail level for the model. */
  detail: ImageDetail;
  /** The file id. */
  fileId: Scalars['String']['output'];
};

/** An image file part of a message. */
export type ImageFileContent = {
  __typename?: 'ImageFileContent';
  /** The image file. */
  imageFile: ImageFile;
};

/** An uploaded image file. */
export type ImageFileInput = {
  /** Detail level. */
  detail?: ImageDetail;
  /** The file id. */
  fileId: Scalars['String']['input'];
};

/** An image on the web. */
export type ImageUrl = {
  __typename?: 'ImageUrl';
  /** Detail level for the model. */
  detail: ImageDetail;
  /** The http(s) URL of the image. */
  url: Scalars['String']['output'];
};

/** An image URL part of a message. */
export type ImageUrlContent = {
  __typename?: 'ImageUrlContent';
  /** The image URL. */
  imageUrl: ImageUrl;
};

/** An image on the web. */
export type ImageUrlInput = {
  /** Detail level. */
  detail?: ImageDetail;
  /** An http(s) URL, at most 2,048 characters. */
  url: Scalars['String']['input'];
};

/** Something that happened to one of your organization's threads: created, changed (its title, metadata, state, visibility, or its activity: a message created, edited, completed, deleted or restored), deleted, restored. */
export type InboxEvent = ThreadCreated | ThreadDeleted | ThreadRestored | ThreadUpdated;

/** One turn of a conversation. */
export type Message = Node & {
  __typename?: 'Message';
  /** The assistant that wrote it. */
  assistantId?: Maybe<Scalars['String']['output']>;
  /** The parts of the message. */
  content: Array<MessageContent>;
  /** When the message was created. */
  createdAt: Scalars['DateTime']['output'];
  /** When its content was last edited (updateMessage); null until then. */
  editedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The id: `thread_<uuid>` or `message_<uuid>`. */
  id: Scalars['ID']['output'];
  /** Why an INCOMPLETE message stopped, as its writer said. */
  incompleteReason?: Maybe<Scalars['String']['output']>;
  /** Your key-value pairs for the message. */
  metadata: Scalars['Metadata']['output'];
  /** Its earlier versions, which edits replaced, newest first (the latest 50 are kept). Read for every message of a page in one batch. */
  revisions: MessageRevisionConnection;
  /** Who wrote the message. */
  role: MessageRole;
  /** The run that wrote it. */
  runId?: Maybe<Scalars['String']['output']>;
  /** Whether the message is complete. */
  status: MessageStatus;
  /** All text parts joined with a newline, for simple clients. */
  text: Scalars['String']['output'];
  /** The thread holding the message. */
  thread: Thread;
  /** The thread holding the message. */
  threadId: Scalars['ID']['output'];
};


/** One turn of a conversation. */
export type MessageRevisionsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};

/** A message in progress was finished. */
export type MessageCompleted = {
  __typename?: 'MessageCompleted';
  /** Pass to the subscription's `after` (threadEvents or inboxEvents, whichever delivered it) to resume after this. */
  cursor: Scalars['String']['output'];
  /** The finished message. */
  message: Message;
};

/** A page of a list: edges with cursors, or just the nodes. */
export type MessageConnection = {
  __typename?: 'MessageConnection';
  /** The page's items with cursors. */
  edges: Array<MessageEdge>;
  /** The page's items. */
  nodes: Array<Message>;
  /** Where this page sits in the list. */
  pageInfo: PageInfo;
  /** How many items the whole filtered list holds; for threads filtered by other than state, the trash and one metadata pair, counted up to 1,000 (see totalCountIsExact). */
  totalCount: Scalars['Int']['output'];
  /** False when totalCount is only a lower bound: the list holds more than 1,000 threads (or more than could be counted within that many). */
  totalCountIsExact: Scalars['Boolean']['output'];
};

/** A part of a message's content. */
export type MessageContent = ImageFileContent | ImageUrlContent | TextContent;

/** A message was added. */
export type MessageCreated = {
  __typename?: 'MessageCreated';
  /** Pass to the subscription's `after` (threadEvents or inboxEvents, whichever delivered it) to resume after this. */
  cursor: Scalars['String']['output'];
  /** The message as created. */
  message: Message;
};

/** A message was deleted. */
export type MessageDeleted = {
  __typename?: 'MessageDeleted';
  /** Pass to the subscription's `after` (threadEvents or inboxEvents, whichever delivered it) to resume after this. */
  cursor: Scalars['String']['output'];
  /** The deleted message. */
  messageId: Scalars['ID']['output'];
};

/** Text was appended to a message in progress. */
export type MessageDelta = {
  __typename?: 'MessageDelta';
  /** Pass to the subscription's `after` (threadEvents or inboxEvents, whichever delivered it) to resume after this. */
  cursor: Scalars['String']['output'];
  /** The text appended. */
  delta: Scalars['String']['output'];
  /** The message. */
  messageId: Scalars['ID']['output'];
  /** Where the delta goes: the length of the message's text before it. The deltas of a message come in the order of their offsets, each starting where the previous one ended: a larger offset means a delta was missed (read the message). */
  offset: Scalars['Int']['output'];
};

/** An item of a page, with the cursor to page from it. */
export type MessageEdge = {
  __typename?: 'MessageEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: Message;
};

/** A message to add: give exactly one of content and contentParts. */
export type MessageInput = {
  /** Writing assistant. */
  assistantId?: InputMaybe<Scalars['String']['input']>;
  /** Plain text, 1-256,000 characters. */
  content?: InputMaybe<Scalars['String']['input']>;
  /** Parts: text and images (1-32). */
  contentParts?: InputMaybe<Array<ContentPartInput>>;
  /** Key-value pairs. */
  metadata?: InputMaybe<Scalars['Metadata']['input']>;
  /** Who wrote it. */
  role?: MessageRole;
  /** Writing run. */
  runId?: InputMaybe<Scalars['String']['input']>;
};

/** A message came back from the trash, in its place. */
export type MessageRestored = {
  __typename?: 'MessageRestored';
  /** Pass to the subscription's `after` (threadEvents or inboxEvents, whichever delivered it) to resume after this. */
  cursor: Scalars['String']['output'];
  /** The restored message. */
  message: Message;
};

/** An earlier version of a message's content, kept by an edit. */
export type MessageRevision = {
  __typename?: 'MessageRevision';
  /** The parts of this version. */
  content: Array<MessageContent>;
  /** When this version was written: the message's createdAt for number 1, the time of the edit that wrote it otherwise. */
  createdAt: Scalars['DateTime']['output'];
  /** The message's version this was: 1 as created, one more per edit. */
  number: Scalars['Int']['output'];
  /** Its text parts joined with a newline. */
  text: Scalars['String']['output'];
};

/** A page of a message's earlier versions, newest first. */
export type MessageRevisionConnection = {
  __typename?: 'MessageRevisionConnection';
  /** The page's versions with cursors. */
  edges: Array<MessageRevisionEdge>;
  /** The page's versions. */
  nodes: Array<MessageRevision>;
  /** Where this page sits in the list. */
  pageInfo: PageInfo;
  /** How many earlier versions are kept: the latest 50. */
  totalCount: Scalars['Int']['output'];
};

/** An item of a page, with the cursor to page from it. */
export type MessageRevisionEdge = {
  __typename?: 'MessageRevisionEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: MessageRevision;
};

/** Who wrote a message. */
export type MessageRole =
  /** The assistant (a model) answering. */
  | 'ASSISTANT'
  /** Instructions that set the assistant's behaviour. */
  | 'SYSTEM'
  /** The person in the conversation. */
  | 'USER';

/** Whether a message is complete. */
export type MessageStatus =
  /** Whole: its writer finished it. */
  | 'COMPLETED'
  /** Ended before its writer finished it; `incompleteReason` says why. */
  | 'INCOMPLETE'
  /** Still being written: appendMessageText adds to it, completeMessage ends it. */
  | 'IN_PROGRESS';

/** A message's metadata changed, or its content was edited. */
export type MessageUpdated = {
  __typename?: 'MessageUpdated';
  /** Pass to the subscription's `after` (threadEvents or inboxEvents, whichever delivered it) to resume after this. */
  cursor: Scalars['String']['output'];
  /** The message after the change (an edit: its new content and editedAt). */
  message: Message;
};

/** Writes. Each takes one input object and returns a payload. */
export type Mutation = {
  __typename?: 'Mutation';
  /** Append text to an IN_PROGRESS message (CONFLICT after). */
  appendMessageText: AppendMessageTextPayload;
  /** Finish an IN_PROGRESS message: COMPLETED or INCOMPLETE. */
  completeMessage: CompleteMessagePayload;
  /** Add a message to an ACTIVE thread. */
  createMessage: CreateMessagePayload;
  /** Create a thread, with up to 100 first messages. */
  createThread: CreateThreadPayload;
  /** Delete a message from an ACTIVE thread, to the trash: restoreMessage brings it back in its place until it is purged. */
  deleteMessage: DeleteMessagePayload;
  /** Delete a thread, in any state: to the trash, where restoreThread brings it back with all its messages until it is purged, or for good with `permanent`. */
  deleteThread: DeleteThreadPayload;
  /** Fork a thread (in any state): a new ACTIVE thread with copies of its messages, up to `upToMessageId` or all. Records no event on the source. */
  forkThread: ForkThreadPayload;
  /** Bring a message back from the trash, in its place, into an ACTIVE thread. */
  restoreMessage: RestoreMessagePayload;
  /** Bring a thread back from the trash, exactly as it was. */
  restoreThread: RestoreThreadPayload;
  /** Replace a message's metadata (not in ARCHIVED threads) and/or edit its content (ACTIVE threads; not while IN_PROGRESS), keeping the version replaced in `revisions`. */
  updateMessage: UpdateMessagePayload;
  /** Change a thread. ARCHIVED threads only take `state`. */
  updateThread: UpdateThreadPayload;
};


/** Writes. Each takes one input object and returns a payload. */
export type MutationAppendMessageTextArgs = {
  input: AppendMessageTextInput;
};


/** Writes. Each takes one input object and returns a payload. */
export type MutationCompleteMessageArgs = {
  input: CompleteMessageInput;
};


/** Writes. Each takes one input object and returns a payload. */
export type MutationCreateMessageArgs = {
  input: CreateMessageInput;
};


/** Writes. Each takes one input object and returns a payload. */
export type MutationCreateThreadArgs = {
  input: CreateThreadInput;
};


/** Writes. Each takes one input object and returns a payload. */
export type MutationDeleteMessageArgs = {
  input: DeleteMessageInput;
};


/** Writes. Each takes one input object and returns a payload. */
export type MutationDeleteThreadArgs = {
  input: DeleteThreadInput;
};


/** Writes. Each takes one input object and returns a payload. */
export type MutationForkThreadArgs = {
  input: ForkThreadInput;
};


/** Writes. Each takes one input object and returns a payload. */
export type MutationRestoreMessageArgs = {
  input: RestoreMessageInput;
};


/** Writes. Each takes one input object and returns a payload. */
export type MutationRestoreThreadArgs = {
  input: RestoreThreadInput;
};


/** Writes. Each takes one input object and returns a payload. */
export type MutationUpdateMessageArgs = {
  input: UpdateMessageInput;
};


/** Writes. Each takes one input object and returns a payload. */
export type MutationUpdateThreadArgs = {
  input: UpdateThreadInput;
};

/** An object with an id, fetchable with `node` and `nodes`. */
export type Node = {
  /** The id: `thread_<uuid>` or `message_<uuid>`. */
  id: Scalars['ID']['output'];
};

/** Where a page sits in its list (Relay cursor connections). */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Cursor of the page's last item. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** Whether items follow this page in the list's order. */
  hasNextPage: Scalars['Boolean']['output'];
  /** Whether items precede this page in the list's order. */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** Cursor of the page's first item. */
  startCursor?: Maybe<Scalars['String']['output']>;
};

/** Reads. */
export type Query = {
  __typename?: 'Query';
  /** The cursor of your organization's latest inbox event as of this read: inboxEvents(after: inboxCursor) delivers every change after it, so reading it, then loading `threads`, then subscribing loses nothing. */
  inboxCursor: Scalars['String']['output'];
  /** A message by id; null if there is none. */
  message?: Maybe<Message>;
  /** A thread or message by id; null if there is none. */
  node?: Maybe<Node>;
  /** Threads or messages by id (at most 100), null where none. */
  nodes: Array<Maybe<Node>>;
  /** Full-text search of your messages, newest first: every word of `query` must occur (whole words, any case and accents; the last word also as a prefix, for search as you type; CJK text by characters and pairs of characters). A thread whose title matches gives its first message. Messages in the trash or in hidden threads are never found. */
  search: SearchConnection;
  /** A thread by id; null if there is none. */
  thread?: Maybe<Thread>;
  /** Your threads, newest first unless `order: ASC`: by creation, or by last activity with `orderBy: UPDATED_AT` (the inbox). */
  threads: ThreadConnection;
};


/** Reads. */
export type QueryMessageArgs = {
  id: Scalars['ID']['input'];
};


/** Reads. */
export type QueryNodeArgs = {
  id: Scalars['ID']['input'];
};


/** Reads. */
export type QueryNodesArgs = {
  ids: Array<Scalars['ID']['input']>;
};


/** Reads. */
export type QuerySearchArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<SearchFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  query: Scalars['String']['input'];
};


/** Reads. */
export type QueryThreadArgs = {
  id: Scalars['ID']['input'];
};


/** Reads. */
export type QueryThreadsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<ThreadFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  limit?: InputMaybe<Scalars['Int']['input']>;
  order?: SortOrder;
  orderBy?: ThreadOrderBy;
};

/** A message to bring back from the trash. */
export type RestoreMessageInput = {
  /** The message, in the trash. */
  id: Scalars['ID']['input'];
};

/** The message back from the trash, and its thread. */
export type RestoreMessagePayload = {
  __typename?: 'RestoreMessagePayload';
  /** The cursor of the thread event this write recorded (null if the thread went meanwhile): threadEvents(after:) from it delivers exactly what happens after this write. */
  eventCursor?: Maybe<Scalars['String']['output']>;
  /** The message, in its place again. */
  message: Message;
  /** Its thread, after the change. */
  thread: Thread;
};

/** A thread to bring back from the trash. */
export type RestoreThreadInput = {
  /** The thread, in the trash. */
  id: Scalars['ID']['input'];
};

/** The thread back from the trash. */
export type RestoreThreadPayload = {
  __typename?: 'RestoreThreadPayload';
  /** The cursor of the thread event this write recorded (null if the thread went meanwhile): threadEvents(after:) from it delivers exactly what happens after this write. */
  eventCursor?: Maybe<Scalars['String']['output']>;
  /** The thread, with exactly its messages. */
  thread: Thread;
};

/** A page of search hits, newest message first. */
export type SearchConnection = {
  __typename?: 'SearchConnection';
  /** The page's hits with cursors. */
  edges: Array<SearchHitEdge>;
  /** The page's hits. */
  nodes: Array<SearchHit>;
  /** Where this page sits in the results. */
  pageInfo: PageInfo;
};

/** Conditions on the messages a search finds. */
export type SearchFilter = {
  /** Messages created at or after this instant. */
  createdAfter?: InputMaybe<Scalars['DateTime']['input']>;
  /** Messages created before this instant. */
  createdBefore?: InputMaybe<Scalars['DateTime']['input']>;
  /** Messages having every one of these pairs. */
  metadata?: InputMaybe<Scalars['Metadata']['input']>;
  /** Only this role's. */
  role?: InputMaybe<MessageRole>;
  /** Only this thread's messages. */
  threadId?: InputMaybe<Scalars['ID']['input']>;
};

/** A message the search found, with its thread. */
export type SearchHit = {
  __typename?: 'SearchHit';
  /** Where the query's terms occur in the message's `text`, in order. */
  highlights: Array<TextRange>;
  /** The message found. */
  message: Message;
  /** The thread holding it. */
  thread: Thread;
};

/** An item of a page, with the cursor to page from it. */
export type SearchHitEdge = {
  __typename?: 'SearchHitEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: SearchHit;
};

/** The order of a list by creation time. */
export type SortOrder =
  /** Oldest first. */
  | 'ASC'
  /** Newest first. */
  | 'DESC';

/** Live events, over graphql-transport-ws. */
export type Subscription = {
  __typename?: 'Subscription';
  /** The live inbox: what happens to your organization's threads (with `mine`, only the threads you created) as it happens; with `after` (an event's cursor, or Query.inboxCursor) first the ones since then, so a client that reconnects or has just loaded the threads loses nothing and gets nothing twice. */
  inboxEvents: InboxEvent;
  /** The thread's events as they happen; with `after` (an event's cursor) first the ones since then, so a client that reconnects loses nothing. Ends after ThreadDeleted. */
  threadEvents: ThreadEvent;
};


/** Live events, over graphql-transport-ws. */
export type SubscriptionInboxEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  mine?: Scalars['Boolean']['input'];
};


/** Live events, over graphql-transport-ws. */
export type SubscriptionThreadEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  threadId: Scalars['ID']['input'];
};

/** Text with its annotations. */
export type Text = {
  __typename?: 'Text';
  /** Notes on spans of the text. */
  annotations: Array<Annotation>;
  /** The text. */
  value: Scalars['String']['output'];
};

/** A text part of a message. */
export type TextContent = {
  __typename?: 'TextContent';
  /** The text. */
  text: Text;
};

/** Where a matched term is in a message's `text`. */
export type TextRange = {
  __typename?: 'TextRange';
  /** Offset just past its last character. */
  end: Scalars['Int']['output'];
  /** Offset of its first character (code points). */
  start: Scalars['Int']['output'];
};

/** A conversation: an ordered list of messages with its settings. */
export type Thread = Node & {
  __typename?: 'Thread';
  /** The assistant bound to the thread. */
  assistantId?: Maybe<Scalars['String']['output']>;
  /** When the thread was created. */
  createdAt: Scalars['DateTime']['output'];
  /** When the thread went to the trash: null unless it is there (`threads(filter: {deleted: true})`). */
  deletedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The cursor of the thread's latest event as of this read: threadEvents(after: eventCursor) delivers what happens after it, so loading then subscribing loses nothing. */
  eventCursor: Scalars['String']['output'];
  /** What the thread was forked from; null if it is no fork. */
  forkedFrom?: Maybe<ForkOrigin>;
  /** The id: `thread_<uuid>` or `message_<uuid>`. */
  id: Scalars['ID']['output'];
  /** The thread's newest message, null when it has none: the inbox preview. Read for every thread of a page in one batch. */
  lastMessage?: Maybe<Message>;
  /** How many messages the thread holds (not in the trash). */
  messageCount: Scalars['Int']['output'];
  /** The thread's messages, newest first unless `order: ASC`. */
  messages: MessageConnection;
  /** Your key-value pairs for the thread. */
  metadata: Scalars['Metadata']['output'];
  /** The organization owning the thread. */
  organizationId: Scalars['String']['output'];
  /** Lifecycle state; ACTIVE by default. */
  state: ThreadState;
  /** STREAMING while any of its messages is IN_PROGRESS. */
  status: ThreadStatus;
  /** Display name, at most 200 characters. */
  title?: Maybe<Scalars['String']['output']>;
  /** Resources for the assistant's tools. */
  toolResources?: Maybe<ToolResources>;
  /** When the thread last changed, a new or deleted message included. */
  updatedAt: Scalars['DateTime']['output'];
  /** The user who created the thread. */
  userId: Scalars['String']['output'];
  /** Whether UIs should list the thread. */
  visibleInUi: Scalars['Boolean']['output'];
};


/** A conversation: an ordered list of messages with its settings. */
export type ThreadMessagesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  limit?: InputMaybe<Scalars['Int']['input']>;
  metadata?: InputMaybe<Scalars['Metadata']['input']>;
  order?: SortOrder;
  role?: InputMaybe<MessageRole>;
};

/** A page of a list: edges with cursors, or just the nodes. */
export type ThreadConnection = {
  __typename?: 'ThreadConnection';
  /** The page's items with cursors. */
  edges: Array<ThreadEdge>;
  /** The page's items. */
  nodes: Array<Thread>;
  /** Where this page sits in the list. */
  pageInfo: PageInfo;
  /** How many items the whole filtered list holds; for threads filtered by other than state, the trash and one metadata pair, counted up to 1,000 (see totalCountIsExact). */
  totalCount: Scalars['Int']['output'];
  /** False when totalCount is only a lower bound: the list holds more than 1,000 threads (or more than could be counted within that many). */
  totalCountIsExact: Scalars['Boolean']['output'];
};

/** A thread was created (createThread, or forkThread). */
export type ThreadCreated = {
  __typename?: 'ThreadCreated';
  /** Pass to the subscription's `after` (threadEvents or inboxEvents, whichever delivered it) to resume after this. */
  cursor: Scalars['String']['output'];
  /** The new thread. */
  thread: Thread;
};

/** The thread was deleted (to the trash, or for good); a threadEvents subscription ends after this. */
export type ThreadDeleted = {
  __typename?: 'ThreadDeleted';
  /** Pass to the subscription's `after` (threadEvents or inboxEvents, whichever delivered it) to resume after this. */
  cursor: Scalars['String']['output'];
  /** The deleted thread. */
  threadId: Scalars['ID']['output'];
};

/** An item of a page, with the cursor to page from it. */
export type ThreadEdge = {
  __typename?: 'ThreadEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: Thread;
};

/** Something that happened in a thread. */
export type ThreadEvent = MessageCompleted | MessageCreated | MessageDeleted | MessageDelta | MessageRestored | MessageUpdated | ThreadDeleted | ThreadRestored | ThreadUpdated;

/** Which threads to list; every given condition must hold. */
export type ThreadFilter = {
  /** By assistant. */
  assistantId?: InputMaybe<Scalars['String']['input']>;
  /** true lists the trash instead: deleted threads, restorable until purged (see `deletedAt`), in every state unless `state` is given. */
  deleted?: Scalars['Boolean']['input'];
  /** Threads having every one of these pairs. */
  metadata?: InputMaybe<Scalars['Metadata']['input']>;
  /** Threads in this state. Without it, all but ARCHIVED. */
  state?: InputMaybe<ThreadState>;
  /** By creating user. */
  userId?: InputMaybe<Scalars['String']['input']>;
  /** By UI visibility. */
  visibleInUi?: InputMaybe<Scalars['Boolean']['input']>;
};

/** What a list of threads is ordered by. */
export type ThreadOrderBy =
  /** When the thread was created. */
  | 'CREATED_AT'
  /** When the thread last changed (a message written, its title, metadata or state changed): the inbox order. A walk leaves out threads that move after it started, so it never returns one twice; threadEvents reports what moved. */
  | 'UPDATED_AT';

/** The thread came back from the trash (subscribe again to follow it: a subscription ends with ThreadDeleted). */
export type ThreadRestored = {
  __typename?: 'ThreadRestored';
  /** Pass to the subscription's `after` (threadEvents or inboxEvents, whichever delivered it) to resume after this. */
  cursor: Scalars['String']['output'];
  /** The restored thread. */
  thread: Thread;
};

/** The lifecycle state of a thread. */
export type ThreadState =
  /** Takes new messages and changes. */
  | 'ACTIVE'
  /** Kept but frozen: only `state` may change. Left out of `threads` unless `filter.state` asks for it. */
  | 'ARCHIVED'
  /** Read-only conversation: no new or deleted messages; the thread's own fields (title, metadata, state...) still change. */
  | 'LOCKED';

/** Whether an assistant is writing into the thread. */
export type ThreadStatus =
  /** No message of the thread is IN_PROGRESS. */
  | 'INACTIVE'
  /** An assistant is writing a message into the thread (one is IN_PROGRESS). */
  | 'STREAMING';

/** The thread itself changed. */
export type ThreadUpdated = {
  __typename?: 'ThreadUpdated';
  /** Pass to the subscription's `after` (threadEvents or inboxEvents, whichever delivered it) to resume after this. */
  cursor: Scalars['String']['output'];
  /** The thread after the change. */
  thread: Thread;
};

/** Resources made available to the assistant's tools in this thread. */
export type ToolResources = {
  __typename?: 'ToolResources';
  /** Resources of the code interpreter tool. */
  codeInterpreter?: Maybe<CodeInterpreterResources>;
  /** Resources of the file search tool. */
  fileSearch?: Maybe<FileSearchResources>;
};

/** Resources for the assistant's tools. */
export type ToolResourcesInput = {
  /** Code interpreter resources. */
  codeInterpreter?: InputMaybe<CodeInterpreterInput>;
  /** File search resources. */
  fileSearch?: InputMaybe<FileSearchInput>;
};

/** Changes to a message: absent fields stay. New content (at most one of content and contentParts) edits it, keeping the version it replaces in `revisions`. */
export type UpdateMessageInput = {
  /** New plain text, 1-256,000 characters: an edit (ACTIVE threads; not while IN_PROGRESS). */
  content?: InputMaybe<Scalars['String']['input']>;
  /** New parts (1-32) instead of `content`: an edit. */
  contentParts?: InputMaybe<Array<ContentPartInput>>;
  /** The message. */
  id: Scalars['ID']['input'];
  /** Replaces the whole map; {} clears it. */
  metadata?: InputMaybe<Scalars['Metadata']['input']>;
};

/** The updated message. */
export type UpdateMessagePayload = {
  __typename?: 'UpdateMessagePayload';
  /** The cursor of the thread event this write recorded (null if the thread went meanwhile): threadEvents(after:) from it delivers exactly what happens after this write. */
  eventCursor?: Maybe<Scalars['String']['output']>;
  /** The message after the change. */
  message: Message;
};

/** Changes to a thread: absent fields stay, null clears. */
export type UpdateThreadInput = {
  /** null unbinds. */
  assistantId?: InputMaybe<Scalars['String']['input']>;
  /** The thread. */
  id: Scalars['ID']['input'];
  /** Replaces the whole map; {} clears it. */
  metadata?: InputMaybe<Scalars['Metadata']['input']>;
  /** Lifecycle state. */
  state?: InputMaybe<ThreadState>;
  /** New title; null clears. */
  title?: InputMaybe<Scalars['String']['input']>;
  /** Replaces the tool resources; null clears. */
  toolResources?: InputMaybe<ToolResourcesInput>;
  /** UI visibility. */
  visibleInUi?: InputMaybe<Scalars['Boolean']['input']>;
};

/** The updated thread. */
export type UpdateThreadPayload = {
  __typename?: 'UpdateThreadPayload';
  /** The cursor of the thread event this write recorded (null if the thread went meanwhile): threadEvents(after:) from it delivers exactly what happens after this write. */
  eventCursor?: Maybe<Scalars['String']['output']>;
  /** The thread after the change. */
  thread: Thread;
};
