/**
 * Paging of a meeting's file list: how many files one message carries at most.
 * @module
 * @internal
 */

/**
 * Files in one page of a meeting's file list: at most this many in `welcome.files` (the newest) and in
 * each `fileListPage`. A page of fewer files is the last one. Fixed by the protocol, so that a client
 * can tell a full first page (older files may exist) from a whole list.
 */
export const FILE_LIST_PAGE = 100;
